// Package router splits one parent quantity across venues. It is pure: no clock, no I/O, no logging.
//
// Each eligible venue (healthy, positive ops weight and volume share, some capacity) is aimed at
// Quantity × share×weight / Σ share×weight. Targets above a venue's cap are pinned to the cap and the excess is
// spread over the others in proportion (water filling). Each target is then floored onto the venue's own lot
// grid and the leftover is handed out one lot at a time to the venue with the largest remainder (ties go to the
// earlier venue in the input), never beyond a cap. A venue whose allocation lands below its minimum quantity or
// minimum notional is dropped (the one with the smallest weight first, one per round) and the whole split is
// recomputed until it is stable.
//
// What no venue could take is reported, not lost: Σ Allocations + Residual + Unallocated == Quantity exactly.
// Residual is the part smaller than the smallest lot among venues that still have room; Unallocated is a part of
// one lot or more that caps or exclusions left over.
package router
