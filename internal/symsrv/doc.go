// Package symsrv finds symbol files (PDBs, and image files by their image
// key) along a KD symbol path, and downloads them from HTTP(S) symbol
// servers into a local cache laid out as a symbol store.
//
// The symbol path comes from -y, _NT_ALT_SYMBOL_PATH and _NT_SYMBOL_PATH
// (the alternate path is searched first), .sympath and .symfix. It is a
// ';'-separated list of elements: a plain directory, cache*[DIR] (files
// found further right are copied into DIR) or srv*[CACHE*]STORE[*STORE...]
// (symbol stores, nearest first, with downloads placed in CACHE). A store
// is a directory or an http:// or https:// URL laid out as
// NAME/KEY/NAME, where KEY is the PDB GUID and age or the image timestamp
// and size; a store whose root holds index2.txt has a first level made of
// the name's first two characters. Parse explains in one line what it
// cannot take: the symsrv*DLL*... form (it loads a Windows DLL) and URLs
// outside srv*.
//
// Client.Find walks the path. For a server it tries the file itself, then
// the compressed NAME with its last character replaced by '_' (a CAB
// archive, which kd does not decompress: Find says so), then file.ptr (a
// PATH: pointing elsewhere, or a MSG: to show). Downloads honour the
// caller's context, time out when a server stalls, refuse files over a
// size limit, report progress for a console progress bar, and are written
// to a temporary file in the cache directory and renamed into place, so
// the cache never holds a partial file and is itself a valid store. The
// HTTP client takes its proxy from _NT_SYMBOL_PROXY (host:port, as KD
// does) or else from HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
//
// Names and keys come from the target and are checked before they become
// paths: a name is a single file name, a key is hex digits.
package symsrv
