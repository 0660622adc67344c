// Package dialplan is goswitch's "XML" dialplan: FreeSWITCH's
// mod_dialplan_xml (FS-COMPAT section 2). Compile turns the `dialplan`
// section of a configuration snapshot into immutable contexts, extensions
// and conditions, with every regular expression compiled once per load;
// Hunt walks a context for a call exactly as parse_exten/dialplan_hunt do
// and logs the same "Dialplan: ..." lines through a Tracer, which feeds both
// the session log (debug) and `goswitch trace`.
//
// Regular expressions are PCRE as in FreeSWITCH: RE2-compatible patterns run
// on Go's regexp, the rest (lookaround, backreferences) on regexp2. A leading
// `_` is an Asterisk pattern and `/re/flags` takes i and s, as in
// switch_regex_perform.
//
// FreeSWITCH quirks (FS-COMPAT marks them QUIRK), and what we do:
//
// Copied, because admins' dialplans depend on them:
//   - continue="true" extensions queue actions on every call, so a number no
//     other extension matches still gets a route (vanilla's tod_example and
//     global): it is not NO_ROUTE_DESTINATION.
//   - Conditions are ANDed only for the decision: actions of earlier passing
//     conditions stay queued when a later condition fails, and hunting then
//     moves on to the next extension with those actions still queued.
//   - A time attribute combined with field on one condition: a passing time
//     check runs the actions even when the field fails (the condition still
//     does not count as matched), and a passing field overrides a failing
//     time check.
//   - Anti-actions make the extension count as matched and get no $N.
//   - On a <regex> child with field, its time attributes are logged but do
//     not decide; $N come from the last capturing <regex> evaluated.
//   - break values other than on-true/on-false/always/never mean on-false;
//     regex values other than all/xor mean any.
//   - vanilla's holiday_example only ever tests its first condition (break
//     defaults to on-false) — we route it the same way.
//
// Not copied, because they are memory-safety bugs or plainly wrong:
//   - In regex="any|all|xor" mode FreeSWITCH leaves the condition's result at
//     whatever the last (or last capturing) <regex> returned, and may run the
//     actions with $N substituted into a zero-length buffer (undefined data).
//     We treat the condition as matched exactly when it passed.
//   - $N substitution is truncated to len(data)+len(subject)+9 bytes in
//     FreeSWITCH; we never truncate.
//   - dst="true" is tested against the server's clock and date-time against
//     the server's zone even when the call has a timezone; we use the call's
//     zone for both (identical when no timezone variable is set).
//   - An unknown `timezone` makes FreeSWITCH test a zeroed clock; we fall back
//     to the channel clock's zone and warn. Names resolve through
//     timezones.conf first (as FreeSWITCH does), then the IANA database.
//   - loop="N" is capped at 1000 (FreeSWITCH has no limit).
//
// FreeSWITCH ends "Action app(data) %s" log lines with a blank when the
// action is not inline; our lines carry no trailing blank.
package dialplan
