package audit

// activeFile is where the active audit file stands: the output it is
// written through, and its state as the records formatted so far will
// leave it (logical) and as it really is (physical). Guarded by Logger.mu;
// phys is written by the owner of the output (batching.busy).
type activeFile struct {
	out sink
	// cur and size are the logical state of the active file: as it will
	// be once every formatted record is written.
	cur  fileState
	size int64
	// phys is what out really holds, read under the mutex to resynchronise
	// after a failure.
	phys fileState
	// forceRotate says the next record must start a new file.
	forceRotate bool
	// unsealed is how many unsealed files (written while integrity
	// protection was off) came after the newest sealed file when the
	// logger started: the FileStart record of file unsealedIndex says so,
	// so that verification can tell them from unsealed files put there
	// afterwards, or count the ones removed.
	unsealed      int
	unsealedIndex uint64
}

// fileState is where the active file stands after a record.
type fileState struct {
	seq   uint64        // sequence number of the last record
	day   int64         // day number (see dayOf) of the last record; -1 if unknown
	index uint64        // the file's index in the integrity chain
	mac   [macSize]byte // the chain value: the last record's MAC
}
