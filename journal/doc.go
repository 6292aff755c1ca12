// Package journal is execd's durable memory: an embedded, crash-safe store of everything the engine must find
// again after it is killed.
//
// The engine writes ahead (DESIGN.md invariant 3). A parent order is stored when it is accepted and again on every
// change of state, with its request, its allocation across venues, their slice schedules and, once it ends, the
// final report. A child order is stored as an "intent" before a single byte of it goes to a venue, then as "sent",
// "unknown" or "final" as its outcome becomes known; a restarted engine therefore knows every client order id it
// may have sent and can query the venue instead of guessing. Fills are stored once per (venue, trade id) — AddFill
// reports whether a fill is new, so a fill delivered by both the stream and a query is counted once (invariant 5) —
// and indexed by client order id. Ops changes (venue weights, trading state) are appended to a numbered log.
//
// When PutParent, PutChild, AddFill or AppendOps returns nil, the record survives a crash; when it returns an error,
// nothing changed (invariant 13). Bad records (empty or NUL-carrying ids, negative quantities, unknown states, values
// that cannot be encoded) are refused by the caller's own goroutine before anything is queued, so they fail alone.
//
// Writes are group-committed: each valid write is queued and its caller waits. A caller that finds no commit in
// progress becomes the committer: it takes everything queued, applies it in queue order in one bbolt read-write
// transaction, commits it with one fsync, passes the committer's role to the first write queued meanwhile, and
// wakes the callers of its group. Writes that arrive during a commit thus make up the next group, so under
// concurrency (parents' children and the fill dispatcher) one fsync serves many writes, while a lone writer commits
// at once, with no timer, just as before. Applying in queue order inside a transaction that sees its own writes
// keeps each write's meaning as if it were alone: a fill that repeats one queued earlier in the same group is a
// duplicate, a child replaced twice keeps the last version, ops get consecutive Seqs. If the commit fails, every
// caller of the group gets the error and none of its records is stored (bbolt rolls the whole transaction back, Seqs
// included). Close stops new writes (they fail with bbolt's ErrDatabaseNotOpen) and commits those already queued
// before it closes the file. The store starts no goroutine of its own.
//
// Every stored value is an envelope (see Encode): a magic "EXJ" and the FormatVersion byte, a CRC-32C of the
// payload, the payload's length, and the payload itself, strict JSON in which decimals are strings and times are
// RFC 3339. A value that fails any of those checks is reported as ErrCorrupt with its bucket and key, never skipped:
// a journal that silently forgets a fill or an intent would make the engine trade twice. A database written by
// another FormatVersion is refused with ErrVersion rather than misread.
//
// Store is the interface the engine codes against; Bolt is the bbolt implementation, one file execd.db in the
// journal directory. bbolt takes an exclusive file lock, so a second execd on the same directory fails to open
// it within two seconds instead of hanging or corrupting it.
package journal
