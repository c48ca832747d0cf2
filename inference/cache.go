package inference

import (
	"fmt"
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// cacheEntryOverhead approximates what one entry costs beyond its key and vector: the LRU's
// list element and map slot, the entry struct and the slice header.
const cacheEntryOverhead = 160

// What a cache lookup is for (Observer.CacheLookup).
const (
	CacheEmbed    = "embed"    // a pooled embedding
	CacheClassify = "classify" // a head's logits
)

// cacheKey identifies one result: what one input's encoder rows became. The checkpoint ID of
// the encoder is part of it, so a result computed by other weights is never served: after a
// swap every lookup misses (the old entries age out). So are the product (the pooling and
// normalisation, or the head and its weights' ID) and everything that changes the tokens: the
// truncation options and the token limit.
type cacheKey struct {
	checkpoint string
	product    string
	trunc      Truncation
	maxTokens  int
	input      inputKey
}

// size is the key's share of an entry's bytes.
func (k cacheKey) size() int64 {
	return int64(len(k.checkpoint) + len(k.product) + k.input.size() + 24)
}

// cacheEntry is one cached result: the vector (pooled, or a head's logits) and the number of
// tokens the input had, which the response's usage and the metrics need.
type cacheEntry struct {
	vec    []float32 // shared by every response that hits it: read only
	tokens int
}

func (e cacheEntry) size() int64 { return int64(4*cap(e.vec)) + cacheEntryOverhead }

// resultCache is an LRU of results (pooled embeddings and head logits) bounded in bytes (keys, vectors and a fixed
// per-entry overhead). golang-lru bounds entries by count, so the byte bound is kept here:
// after each add, the least recently used entries are evicted until the total fits. A nil
// *resultCache is a disabled cache: every lookup misses and adds are dropped.
type resultCache struct {
	limit int64

	mu    sync.Mutex // guards lru and bytes (a Get moves the entry, so it writes too)
	lru   *simplelru.LRU[cacheKey, cacheEntry]
	bytes int64

	obs Observer // told about hits, misses and evictions
}

// newResultCache returns a cache of at most limit bytes, or nil (disabled) when limit is not
// positive.
func newResultCache(limit int64, obs Observer) (*resultCache, error) {
	if limit <= 0 {
		return nil, nil
	}
	c := &resultCache{limit: limit, obs: obs}
	// The count bound is never the binding one: the byte bound evicts first.
	l, err := simplelru.NewLRU[cacheKey, cacheEntry](math.MaxInt32, func(k cacheKey, e cacheEntry) {
		c.bytes -= k.size() + e.size() // called under c.mu, by Add/RemoveOldest
	})
	if err != nil {
		return nil, fmt.Errorf("result cache: %w", err)
	}
	c.lru = l
	return c, nil
}

// get returns the entry for k and counts a hit or a miss of kind (CacheEmbed, CacheClassify).
func (c *resultCache) get(kind string, k cacheKey) (cacheEntry, bool) {
	if c == nil {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	e, ok := c.lru.Get(k)
	c.mu.Unlock()
	c.obs.CacheLookup(kind, ok)
	return e, ok
}

// add stores e under k and evicts least recently used entries until the cache fits its
// limit. An entry larger than the whole limit is not stored.
func (c *resultCache) add(k cacheKey, e cacheEntry) {
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
func (c *resultCache) usage() (entries int, bytes int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
