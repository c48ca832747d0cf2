package tokenizer

import (
	"hash/maphash"

	lru "github.com/hashicorp/golang-lru/v2"
)

// wordCache maps a pre-token to its BPE ids. It is split into shards, each a golang-lru cache
// with its own lock, and a hit only takes the shard's read lock (Peek), so concurrent Encode calls
// do not queue on the words every text has ("Ġthe"). One shared LRU whose Get takes the write
// lock lost a quarter of two cores to waiting. The price: a hit does not refresh the word's
// recency, so eviction is in insertion order (Hugging Face's own cache just stops adding).
type wordCache struct {
	seed   maphash.Seed
	shards [cacheShards]*lru.Cache[string, []int32]
}

const cacheShards = 16

// newWordCache holds about size words; size <= 0 gives nil (no cache).
func newWordCache(size int) *wordCache {
	if size <= 0 {
		return nil
	}
	c := &wordCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i], _ = lru.New[string, []int32](max(size/cacheShards, 1))
	}
	return c
}

func (c *wordCache) shard(w string) *lru.Cache[string, []int32] {
	return c.shards[maphash.String(c.seed, w)%cacheShards]
}

func (c *wordCache) get(w string) ([]int32, bool) { return c.shard(w).Peek(w) }

func (c *wordCache) add(w string, ids []int32) { c.shard(w).Add(w, ids) }
