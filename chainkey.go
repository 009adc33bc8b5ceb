package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
)

// chainKey is the key of one file of the chain. A nil key means the plain
// SHA-256 chain.
type chainKey struct {
	index uint64 // the file index this key belongs to
	key   []byte
	mac   hash.Hash // HMAC-SHA256 with key, or SHA-256
	sum   []byte    // scratch for mac.Sum, so that sealing allocates nothing
	prev  []byte    // scratch copy of the previous MAC, likewise
}

func newChainKey(index uint64, key []byte) *chainKey {
	k := &chainKey{index: index, key: key, sum: make([]byte, 0, macSize), prev: make([]byte, macSize)}
	if key != nil {
		k.mac = hmac.New(sha256.New, key)
	} else {
		k.mac = sha256.New()
	}
	return k
}

// evolve returns the key of the next file and wipes k's key from memory.
func (k *chainKey) evolve() *chainKey {
	next := k.next()
	k.wipe()
	return next
}

// next returns the key of the next file, leaving k as it is.
func (k *chainKey) next() *chainKey {
	if k.key == nil {
		return newChainKey(k.index+1, nil)
	}
	h := sha256.New()
	h.Write([]byte(keyLabel))
	h.Write(k.key)
	return newChainKey(k.index+1, h.Sum(nil))
}

// wipe clears k's key from memory; k cannot seal any more.
func (k *chainKey) wipe() {
	if k.key != nil {
		clear(k.key)
		k.mac = nil
	}
}

// algorithm names the chain in FileStart records.
func (k *chainKey) algorithm() string {
	if k.key == nil {
		return chainSHA256
	}
	return chainHMAC
}

// sum returns the MAC of a record body chained to prev.
func (k *chainKey) seal(prev *[macSize]byte, body []byte) (out [macSize]byte) {
	k.mac.Reset()
	copy(k.prev, prev[:]) // a slice of *prev would make every caller's state escape
	k.mac.Write(k.prev)
	k.mac.Write(body)
	copy(out[:], k.mac.Sum(k.sum[:0]))
	return out
}

// sealParts is seal of the body a followed by b.
func (k *chainKey) sealParts(prev *[macSize]byte, a, b []byte) (out [macSize]byte) {
	k.mac.Reset()
	copy(k.prev, prev[:])
	k.mac.Write(k.prev)
	k.mac.Write(a)
	k.mac.Write(b)
	copy(out[:], k.mac.Sum(k.sum[:0]))
	return out
}
