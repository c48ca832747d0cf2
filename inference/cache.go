package inference

import (
	"fmt"
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/coldserve/coldserve/encoder"
)

// cacheEntryOverhead approximates what one entry costs beyond its key and vector: the LRU's
// list element and map slot, the entry struct and the slice header.
const cacheEntryOverhead = 160

// cacheKey identifies one pooled embedding. The checkpoint ID is part of it, so a vector
// computed by other weights is never served: after a swap every lookup misses (the old
// entries age out). The options that change the vector are part of it too: pooling,
// normalisation and the token limit (maxInputTokens and whether truncation was allowed).
type cacheKey struct {
	checkpoint string
	pooling    encoder.Pooling
	normalize  bool
	truncate   bool
	maxTokens  int
	text       string
}

// size is the key's share of an entry's bytes.
func (k cacheKey) size() int64 {
	return int64(len(k.checkpoint) + len(k.pooling) + len(k.text) + 16)
}

// cacheEntry is one cached result: the pooled (and, when asked, normalised) vector and the
// number of tokens the text had, which the response's usage and the metrics need.
type cacheEntry struct {
	vec    []float32 // shared by every response that hits it: read only
	tokens int
}

func (e cacheEntry) size() int64 { return int64(4*cap(e.vec)) + cacheEntryOverhead }

// embedCache is an LRU of pooled embeddings bounded in bytes (keys, vectors and a fixed
// per-entry overhead). golang-lru bounds entries by count, so the byte bound is kept here:
// after each add, the least recently used entries are evicted until the total fits. A nil
// *embedCache is a disabled cache: every lookup misses and adds are dropped.
type embedCache struct {
	limit int64

	mu    sync.Mutex // guards lru and bytes (a Get moves the entry, so it writes too)
	lru   *simplelru.LRU[cacheKey, cacheEntry]
	bytes int64

	obs Observer // told about hits, misses and evictions
}

// newEmbedCache returns a cache of at most limit bytes, or nil (disabled) when limit is not
// positive.
func newEmbedCache(limit int64, obs Observer) (*embedCache, error) {
	if limit <= 0 {
		return nil, nil
	}
	c := &embedCache{limit: limit, obs: obs}
	// The count bound is never the binding one: the byte bound evicts first.
	l, err := simplelru.NewLRU[cacheKey, cacheEntry](math.MaxInt32, func(k cacheKey, e cacheEntry) {
		c.bytes -= k.size() + e.size() // called under c.mu, by Add/RemoveOldest
	})
	if err != nil {
		return nil, fmt.Errorf("embedding cache: %w", err)
	}
	c.lru = l
	return c, nil
}

// get returns the entry for k and counts a hit or a miss.
func (c *embedCache) get(k cacheKey) (cacheEntry, bool) {
	if c == nil {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	e, ok := c.lru.Get(k)
	c.mu.Unlock()
	c.obs.CacheLookup(ok)
	return e, ok
}

// add stores e under k and evicts least recently used entries until the cache fits its
// limit. An entry larger than the whole limit is not stored.
func (c *embedCache) add(k cacheKey, e cacheEntry) {
	if c == nil {
		return
	}
	sz := k.size() + e.size()
	if sz > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(k); ok {
		c.bytes -= k.size() + old.size() // Add replaces without calling the eviction callback
	}
	c.lru.Add(k, e)
	c.bytes += sz
	for c.bytes > c.limit {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
		c.obs.CacheEvicted()
	}
}

// usage returns the entry count and bytes held (for tests and the gauge).
func (c *embedCache) usage() (entries int, bytes int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
