// Package fifo is goswitch's mod_fifo: call queues.
//
// "fifo <name> in" answers a caller and queues it (by fifo_priority, then arrival) with music on
// hold; "fifo <name>[,<name>...] out [wait|nowait]" takes the caller that has waited longest in the
// most important queue and bridges to it: with nowait once (or not at all when nobody waits), with
// wait again and again, hearing music between callers. Outbound members (fifo.conf <member> and the
// fifo_member API) are dialled when callers wait and no consumer is idle; an answered member runs
// "fifo <name> out nowait" (or its fifo_member_wait). The fifo and fifo_member API commands list
// and change the queues; fifo::info events report pushes, pops and aborts.
//
// Like FreeSWITCH with odbc-dsn, the fifo_member members live in the fifo database (fifo.conf
// odbc-dsn, else core-db-dsn, else an embedded SQLite file), in fifo_outbound, and the queued
// callers and bridges are mirrored in fifo_callers and fifo_bridge: on PostgreSQL every node of a
// cluster lists and dials the same members, a member's simo_count slots claimed atomically in
// the database. fifo.conf's own members stay per node, in memory.
//
// What it does not do: the queues themselves are per node (a caller waits on the node that took
// it; consumers elsewhere do not see it); the caller-side announce argument of "in";
// fifo_record_template; soft hold with 0 while bridged; fifo_member's taking_calls argument.
package fifo
