// Package pdb reads Microsoft program databases (PDB files in the MSF 7.00
// container) for kd's symbolic commands: the PDB info stream that ties a
// PDB to an image (GUID and age from the image's RSDS record), the DBI
// stream (modules, section headers, the publics, globals and symbol-record
// stream numbers), public symbols, module symbol streams for function
// extents, and TPI type records for dt layouts.
//
// A File is lazy. Open reads the superblock, the stream directory, the
// PDB info stream and the DBI stream and nothing else; the symbol index is
// built on the first symbol query and the type index on the first type
// query. On unix the file is memory-mapped and a stream whose blocks lie
// in order in the file is used in place, so a 30-40 MB kernel PDB costs
// page cache rather than heap; a stream in scattered blocks, and every
// stream on other systems, is read once into one buffer with ReadAt.
//
// Every count, size, offset and index in the file is checked against the
// data that holds it: a truncated or lying PDB gives an error naming what
// is wrong, never a panic, a hang or an allocation larger than the file.
// The layouts follow the public descriptions of the format (LLVM's PDB
// documentation and Microsoft's cvinfo.h), summarised in the project's
// symbols-stacks reference.
package pdb
