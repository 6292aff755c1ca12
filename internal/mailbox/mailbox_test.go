package mailbox

import (
	"sync"
	"testing"
)

func TestOrderAndNoLoss(t *testing.T) {
	b := New[int]()
	const writers, each = 8, 1000
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				b.Put(w*each + i)
			}
		}(w)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	last := make([]int, writers)
	for i := range last {
		last[i] = -1
	}
	got := 0
	var buf []int
	for got < writers*each {
		select {
		case <-b.Ready():
		case <-done:
		}
		buf = b.Drain(buf)
		for _, v := range buf {
			w, i := v/each, v%each
			if i <= last[w] {
				t.Fatalf("writer %d: %d after %d", w, i, last[w])
			}
			last[w] = i
			got++
		}
	}
	if b.Len() != 0 {
		t.Fatal("items left")
	}
}

func TestClosedDrops(t *testing.T) {
	b := New[string]()
	b.Put("a")
	b.Close()
	if b.Put("b") {
		t.Fatal("Put after Close accepted")
	}
	if got := b.Drain(nil); len(got) != 1 || got[0] != "a" {
		t.Fatalf("drain %v", got)
	}
}
