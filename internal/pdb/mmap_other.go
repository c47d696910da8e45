//go:build !unix

package pdb

import "os"

// mapFile does not map on this system: streams are read with ReadAt.
func mapFile(*os.File, int) []byte { return nil }

func unmapFile([]byte) error { return nil }
