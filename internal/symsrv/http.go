package symsrv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// errStalled is the cause given when a download receives nothing for the
// stall timeout.
var errStalled = errors.New("the server sent nothing")

// fetch tries one HTTP store: the file, then its compressed form, then
// file.ptr. The file is downloaded into cache.
func (c *Client) fetch(ctx context.Context, store, cache string, r Request) (string, error) {
	root := strings.TrimRight(store, "/")
	three, err := c.threeTier(ctx, root)
	if err != nil {
		return "", err
	}
	base := root + "/"
	if three {
		base += r.Name[:min(2, len(r.Name))] + "/"
	}
	base += r.Name + "/" + r.Key + "/"
	path, err := c.download(ctx, base+r.Name, cache, r)
	if !errors.Is(err, ErrNotFound) {
		return path, err
	}
	z := base + compressedName(r.Name)
	if found, err := c.exists(ctx, z); err != nil || found {
		if err != nil {
			return "", err
		}
		return "", compressedError(z)
	}
	ptr, err := c.small(ctx, base+"file.ptr")
	if err != nil {
		return "", err
	}
	return c.followPtr(base+"file.ptr", ptr, false)
}

// threeTier reports whether an HTTP store has index2.txt at its root,
// asking once per store and client.
func (c *Client) threeTier(ctx context.Context, root string) (bool, error) {
	c.mu.Lock()
	v, ok := c.tiers[root]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := c.exists(ctx, root+"/index2.txt")
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	if c.tiers == nil {
		c.tiers = map[string]bool{}
	}
	c.tiers[root] = v
	c.mu.Unlock()
	return v, nil
}

// get starts a GET; a 404 (or 410) is ErrNotFound, any other status but
// 200 an error.
func (c *Client) get(ctx context.Context, url string) (*http.Response, error) {
	h, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("symbol server url %q: %w", clean(url), err)
	}
	req.Header.Set("User-Agent", "kd-symsrv")
	resp, err := h.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			return nil, cause
		}
		return nil, fmt.Errorf("GET %s: %w", clean(url), err)
	}
	c.logf("GET %s: %s", url, resp.Status)
	switch resp.StatusCode {
	case http.StatusOK:
		return resp, nil
	case http.StatusNotFound, http.StatusGone:
		resp.Body.Close()
		return nil, ErrNotFound
	}
	resp.Body.Close()
	return nil, fmt.Errorf("GET %s: server said %s", clean(url), clean(resp.Status))
}

// exists reports whether url can be fetched, without reading it.
func (c *Client) exists(ctx context.Context, url string) (bool, error) {
	resp, err := c.get(ctx, url)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return true, nil
}

// small fetches a file.ptr, at most maxPtrSize bytes.
func (c *Client) small(ctx context.Context, url string) ([]byte, error) {
	resp, err := c.get(ctx, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPtrSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", clean(url), err)
	}
	if len(b) > maxPtrSize {
		return nil, fmt.Errorf("%s is over %d bytes", clean(url), maxPtrSize)
	}
	return b, nil
}

// download fetches url into the cache, ending it when the context is
// cancelled or the server stalls.
func (c *Client) download(ctx context.Context, url, cache string, r Request) (string, error) {
	stall := c.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()
	resp, err := c.get(dctx, url)
	if err != nil {
		return "", stalled(dctx, stall, url, err)
	}
	defer resp.Body.Close()
	path, err := c.place(dctx, resp.Body, resp.ContentLength, cache, r, url, func() { watchdog.Reset(stall) })
	return path, stalled(dctx, stall, url, err)
}

// stalled rewrites an error caused by the watchdog.
func stalled(ctx context.Context, stall time.Duration, url string, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), errStalled) {
		return fmt.Errorf("GET %s: %w for %v", clean(url), errStalled, stall)
	}
	return err
}
