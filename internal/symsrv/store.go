package symsrv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxNameLen bounds a requested file name.
const maxNameLen = 255

// ErrNotFound reports a file that no element of the path has.
var ErrNotFound = errors.New("not found on the symbol path")

// Request names the file to find: a PDB by its RSDS name and GUID+age key,
// or an image by its file name and timestamp+size key.
type Request struct {
	Name string // file name only, e.g. ntkrnlmp.pdb
	Key  string // hex digits, e.g. 9E69679735E3CCB74C4C44205044422E1
	// ImageExt is the extension of the image a PDB belongs to (sys, dll,
	// exe) for the dir\symbols\EXT\ and dir\EXT\ forms of a plain directory.
	ImageExt string
}

// check rejects names and keys that could leave a store directory.
func (r Request) check() error {
	if r.Name == "" || len(r.Name) > maxNameLen || r.Name == "." || r.Name == ".." ||
		strings.ContainsAny(r.Name, `/\:*?"<>|`) || strings.Contains(r.Name, "..") {
		return fmt.Errorf("symbol file name %q is not a plain file name", r.Name)
	}
	for _, c := range r.Name {
		if c < 0x20 || c == 0x7F {
			return fmt.Errorf("symbol file name %q has control characters", r.Name)
		}
	}
	if r.Key == "" || len(r.Key) > 64 {
		return fmt.Errorf("symbol key %q is not 1 to 64 hex digits", r.Key)
	}
	for _, c := range r.Key {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("symbol key %q is not hex digits", r.Key)
		}
	}
	switch r.ImageExt {
	case "", "sys", "dll", "exe":
	default:
		return fmt.Errorf("image extension %q is not sys, dll or exe", r.ImageExt)
	}
	return nil
}

// compressedName is NAME with its last character replaced by '_'.
func compressedName(name string) string {
	return name[:len(name)-1] + "_"
}

// storeDir returns NAME/KEY under a store root, with the two-character
// first level when the store has index2.txt.
func storeDir(root string, r Request, threeTier bool) string {
	if threeTier {
		prefix := r.Name
		if len(prefix) > 2 {
			prefix = prefix[:2]
		}
		return filepath.Join(root, prefix, r.Name, r.Key)
	}
	return filepath.Join(root, r.Name, r.Key)
}

// fileExists reports whether p is a regular file.
func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// localStore looks r up in a directory laid out as a store. It returns the
// file's path, or a non-nil note when the store only has a compressed file
// or a file.ptr message.
func (c *Client) localStore(root string, r Request) (string, error) {
	dir := storeDir(root, r, fileExists(filepath.Join(root, "index2.txt")))
	p := filepath.Join(dir, r.Name)
	c.logf("probe %s", p)
	if fileExists(p) {
		return p, nil
	}
	if z := filepath.Join(dir, compressedName(r.Name)); fileExists(z) {
		return "", compressedError(z)
	}
	ptr := filepath.Join(dir, "file.ptr")
	if fileExists(ptr) {
		b, err := readSmall(ptr)
		if err != nil {
			return "", err
		}
		return c.followPtr(ptr, b, true)
	}
	return "", ErrNotFound
}

// flatDir looks r up in a plain directory: as a store, then flat, then in
// the symbols\EXT and EXT subdirectories.
func (c *Client) flatDir(dir string, r Request) []string {
	var out []string
	if p, err := c.localStore(dir, r); err == nil {
		out = append(out, p)
	}
	cands := []string{filepath.Join(dir, r.Name)}
	if r.ImageExt != "" {
		cands = append(cands, filepath.Join(dir, "symbols", r.ImageExt, r.Name), filepath.Join(dir, r.ImageExt, r.Name))
	}
	for _, p := range cands {
		c.logf("probe %s", p)
		if fileExists(p) {
			out = append(out, p)
		}
	}
	return out
}

// maxPtrSize bounds a file.ptr.
const maxPtrSize = 4096

// readSmall reads a file.ptr.
func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, maxPtrSize+1)
	n, _ := f.Read(b)
	if n > maxPtrSize {
		return nil, fmt.Errorf("%s is over %d bytes", p, maxPtrSize)
	}
	return b[:n], nil
}

// followPtr acts on a file.ptr: PATH:<file> is used if kd can open it
// (only for a directory store: a server must not point kd at local files),
// MSG:<text> is reported.
func (c *Client) followPtr(where string, b []byte, local bool) (string, error) {
	s := strings.TrimSpace(string(b))
	switch {
	case strings.HasPrefix(s, "PATH:"):
		target := strings.TrimSpace(s[len("PATH:"):])
		c.logf("%s points at %s", where, target)
		if !local {
			return "", fmt.Errorf("%s points at %s; kd follows file.ptr only in directory stores", clean(where), clean(target))
		}
		if fileExists(target) {
			return target, nil
		}
		return "", fmt.Errorf("%s points at %s, which kd cannot open from here", clean(where), clean(target))
	case strings.HasPrefix(s, "MSG:"):
		return "", fmt.Errorf("%s: %s", clean(where), clean(strings.TrimSpace(s[len("MSG:"):])))
	}
	return "", fmt.Errorf("%s holds neither a PATH: nor a MSG: line", where)
}

// compressedError explains a compressed file kd will not use.
func compressedError(where string) error {
	return fmt.Errorf("%s is compressed (a CAB archive), which kd does not decompress; expand it with cabextract or expand.exe into the same directory", where)
}

// clean keeps printable ASCII of server-supplied text and cuts it short.
func clean(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if b.Len() >= 200 {
			b.WriteString("...")
			break
		}
		if c >= 0x20 && c < 0x7F {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}
