package inference

import (
	"fmt"
	"testing"

	"github.com/coldserve/coldserve/encoder"
)

// The byte bound evicts least recently used entries; a read refreshes an entry; an entry
// larger than the whole cache is not stored.
func TestResultCacheByteBound(t *testing.T) {
	m := nopObserver{}
	key := func(i int) cacheKey {
		return cacheKey{checkpoint: "sha256:abc", product: string(encoder.PoolMean), maxTokens: 512, input: TextInput(fmt.Sprint("text ", i)).key()}
	}
	entry := func() cacheEntry { return cacheEntry{vec: make([]float32, 32), tokens: 3} }
	per := key(0).size() + entry().size()
	c, err := newResultCache(3*per+per/2, m) // room for three entries
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		c.add(key(i), entry())
	}
	if _, ok := c.get(CacheEmbed, key(0)); !ok { // 0 is now the most recently used; 1 the least
		t.Fatal("entry 0 missing before the cache is full")
	}
	c.add(key(3), entry())
	if n, b := c.usage(); n != 3 || b > c.limit || b != 3*per {
		t.Errorf("usage %d entries %d bytes, want 3 entries %d bytes (limit %d)", n, b, 3*per, c.limit)
	}
	for i, want := range []bool{true, false, true, true} {
		if _, ok := c.get(CacheEmbed, key(i)); ok != want {
			t.Errorf("entry %d present %v, want %v", i, ok, want)
		}
	}
	c.add(key(2), entry()) // replacing keeps the byte count exact
	if _, b := c.usage(); b != 3*per {
		t.Errorf("after replacing: %d bytes, want %d", b, 3*per)
	}
	c.add(key(9), cacheEntry{vec: make([]float32, 1024)})
	if _, ok := c.get(CacheEmbed, key(9)); ok {
		t.Error("an entry larger than the cache was stored")
	}
	if off, err := newResultCache(0, m); off != nil || err != nil {
		t.Errorf("a zero limit built a cache (%v)", err)
	}
	var off *resultCache
	off.add(key(1), entry())
	if _, ok := off.get(CacheEmbed, key(1)); ok {
		t.Error("a disabled cache hit")
	}
}

// CacheBytes -1 disables the cache.
func TestResultCacheDisabled(t *testing.T) {
	c, err := New(Options{CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c.cache != nil {
		t.Fatal("CacheBytes -1 built a cache")
	}
}
