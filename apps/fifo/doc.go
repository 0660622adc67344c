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
// What it does not do: FreeSWITCH's fifo database (fifo_outbound rows, odbc-dsn) — members and
// queues live in memory and a restart forgets them; the caller-side announce argument of "in";
// fifo_record_template; soft hold with 0 while bridged.
package fifo
