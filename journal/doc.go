// Package journal is execd's durable memory: an embedded, crash-safe store of everything the engine must find
// again after it is killed.
//
// The engine writes ahead (DESIGN.md invariant 3). A parent order is stored when it is accepted and again on every
// change of state, with its request, its allocation across venues, their slice schedules and, once it ends, its
// final report as a Summary (the journal's own type, not the API's: invariant 17). A child order is stored in the
// shared child lifecycle (package lifecycle): as an intent, with its price, before a single byte of it goes to a
// venue, then again whenever its gateway learns its outcome (open, amended, unknown, or a final state); a restarted
// engine therefore knows every client order id it may have sent and can query the venue instead of guessing.
// Fills are stored once per (venue, trade id) — AddFill
// reports whether a fill is new, so a fill delivered by both the stream and a query is counted once (invariant 5) —
// and indexed by client order id. Ops changes (venue weights, trading state) are appended to a numbered log.
//
// When PutParent, PutChild, AddFill or AppendOps returns nil, the record survives a crash; when it returns an error,
// nothing changed (invariant 13). PutChildAsync does not wait: it reports the same outcome to a done callback once
// the record's group is committed, and Flush waits for every write queued before it (Close flushes first). This
// lets the engine wait on the critical path only for what must be durable before a send — the intent — and
// journal outcomes without waiting. Bad records (empty or NUL-carrying ids, negative quantities, unknown states,
// values that cannot be encoded) are refused by the caller's own goroutine before anything is queued, so they fail
// alone.
//
// Writes are group-committed: each valid write is queued (and a synchronous caller waits). A caller that finds no
// commit in progress becomes the committer (an asynchronous one starts a goroutine to be it): it takes everything
// queued, applies it in queue order in one bbolt read-write transaction, commits it (bbolt syncs twice: pages, then
// meta), passes the committer's role to a write queued meanwhile, and delivers its group's outcome. Writes that
// arrive during a commit thus make up the next group, so under concurrency (parents' children and the fill
// dispatcher) one commit serves many writes, while a lone writer commits at once, with no timer, just as before.
// Applying in queue order inside a transaction that sees its own writes keeps each write's meaning as if it were
// alone: a fill that repeats one queued earlier in the same group is a duplicate, a child replaced twice keeps the
// last version, ops get consecutive Seqs. If the commit fails, every caller of the group gets the error and none of
// its records is stored (bbolt rolls the whole transaction back, Seqs included). Close stops new writes (they fail
// with bbolt's ErrDatabaseNotOpen) and commits those already queued before it closes the file. The store keeps no
// goroutine of its own: a committer started for asynchronous writes exits once the queue is empty. See group.go.
//
// Every stored value is an envelope (see Encode): a magic "EXJ" and the version of the record's type, a CRC-32C of
// the payload, the payload's length, and the payload itself, strict JSON in which decimals are strings and times
// are RFC 3339. A value that fails any of those checks is reported as ErrCorrupt with its bucket and key, never
// skipped: a journal that silently forgets a fill or an intent would make the engine trade twice. A record of an
// older version of its type is migrated on read (migrate.go: version 1 children and parents); one of a newer
// version, or a database of another layout (FormatVersion, in the meta bucket), is refused with ErrVersion rather
// than misread.
//
// Store is the interface the engine codes against; Bolt is the bbolt implementation, one file execd.db in the
// journal directory. bbolt takes an exclusive file lock, so a second execd on the same directory fails to open
// it within two seconds instead of hanging or corrupting it.
package journal
