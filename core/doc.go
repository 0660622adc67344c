// Package core is the switch: channels, their state machine, the registries modules fill, and
// the two operations that join channels, originate and bridge. It is FreeSWITCH's src/switch_*.c
// in Go. It imports no endpoint, application, dialplan or codec: those live in their own packages
// and register themselves here from init(), and cmd/goswitch/modules.go is the one list of what a
// binary is built with. Core knows no protocol (no SIP, no RTP wire format) and no configuration
// file format beyond the parsed snapshot core/xmlconf hands it.
//
// The map, with the FreeSWITCH source each part mirrors:
//
//   - Host (host.go, hostsessions.go, apirun.go): what modules receive: the configuration
//     snapshot, the event bus, the session table and the live module instances; (re)loads the
//     config and starts and stops modules; runs API command lines (api, bgapi).
//     switch_core.c, switch_loadable_module.c (module lifecycle).
//   - Registries (registry.go, modules_builtin.go, registrations.go): applications, API commands,
//     endpoints, dialplans and modules by name; filled at init, read-only afterwards.
//     switch_loadable_module.c.
//   - Session (session.go, session_run.go, session_exec.go, session_dtmf.go, commands.go): one
//     channel, run by one goroutine through CS_NEW … CS_ROUTING … CS_EXECUTE … CS_HANGUP …
//     CS_DESTROY; other goroutines reach it only through its command queue (Enqueue, Do), and
//     interrupt its application with Break; its variables (vars.go),
//     caller profile (profile.go), timestamps (timestamps.go) and state names (state.go).
//     switch_core_session.c, switch_core_state_machine.c, switch_channel.c.
//   - Leg (session.go): what an endpoint implements for one channel (progress, answer, hangup,
//     media port, DTMF, indications). switch_io_routines_t in switch_module_interfaces.h.
//   - Execute and hooks (session_exec.go, hooks.go, args.go): running an application with its
//     data expanded (expand.go), execute_on_* hooks. switch_core_session_execute_application,
//     switch_channel_expand_variables in switch_channel.c.
//   - Dialplan (dialplan.go): the Route and Action a hunt returns; the XML dialplan itself is the
//     dialplan package. switch_core_state_machine.c (standard_on_routing).
//   - Originate (originate.go, dialstring.go): parsing a dial string and creating, ringing and
//     racing outbound legs. switch_ivr_originate.c.
//   - Bridge (bridge.go, uuidbridge.go, hold.go, idle.go): joining two answered channels' media,
//     uuid_bridge, hold music and idle silence. switch_ivr_bridge.c, switch_ivr_play_say.c (hold).
//   - Causes (cause.go): hangup causes and their SIP mapping. switch_channel.c, switch_types.h.
//   - Admission (admission.go): sessions-per-second and max-sessions limits, memory pressure.
//     switch_core_session.c (switch_core_session_limit), switch_core.c.
//   - RTP variables (rtpvars.go): rtp_audio_* statistics variables at hangup.
//     switch_core_media.c (set_stats).
//
// Subpackages: event (the event bus, switch_event.c), xmlconf (the XML config loader and
// preprocessor, switch_xml.c), media (frames, ports, codecs, RTP, audio; switch_core_media.c,
// switch_rtp.c), esl (the event socket, mod_event_socket.c) and esl/wire (its wire format and
// client), api (console commands, mod_commands.c), cdr (mod_cdr_csv.c), sdp, acl
// (switch_utils.c ACLs), logging, metrics, netguard (listener limits), security, store.
package core
