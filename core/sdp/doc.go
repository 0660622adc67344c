// Package sdp does goswitch's SDP offer/answer on pion/sdp/v3, FreeSWITCH style.
//
// Our offer (outbound leg):
//
//	cfg := sdp.Config{IP: rtpIP, Port: int(port.LocalAddr().Port()),
//		Codecs: sdp.ParseCodecString("PCMU,PCMA,G722"), // codec prefs / codec_string / absolute_codec_string
//		TelephoneEventPT: 101, Secure: sdp.ParseSecureMedia(vars["rtp_secure_media"]), RTCP: true}
//	offer, err := sdp.BuildOffer(cfg)   // offer.SDP goes in the INVITE; keep offer for the answer
//	res, err := offer.ParseAnswer(body) // then apply res to the rtp.RTPPort
//
// Our answer (inbound leg):
//
//	answer, res, err := sdp.Answer(remoteOffer, cfg) // errors.Is(err, sdp.ErrNotAcceptable) -> 488
//
// A re-INVITE or UPDATE we send on an established session (hold, unhold, refresh):
//
//	offer, err := sdp.Reoffer(cfg, current) // negotiated codec, transport and SRTP key kept
//
// and when answering one, set cfg.LocalKey to the key in use so the answer does not re-key.
//
// A Result says which codec, telephone-event PT, ptime, remote RTP/RTCP address, direction (hold),
// and SRTP keys to use (see Result's doc for the port calls), and Vars() gives the channel
// variables FreeSWITCH sets (rtp_has_crypto, rtp_secure_media_confirmed, rtp_use_codec_*...).
//
// Rules implemented: codec intersection in the offerer's order ("generous") or ours (Greedy);
// answering telephone-event with the offerer's PT; ptime from a=ptime; sendrecv/sendonly/
// recvonly/inactive and c=0.0.0.0 hold; a=rtcp; multiple m-lines with the unused ones refused
// with port 0; RTP/AVP vs RTP/SAVP, including FreeSWITCH's dual offer (SAVP + AVP on one port);
// optionally a single RTP/AVP line with a=crypto instead (Config.CryptoInAVP, small UDP INVITEs);
// SDES a=crypto parse/generate for every suite pion can key, in FreeSWITCH's order, padded or
// unpadded base64, lifetime and MKI; suites pion cannot do (AES_192, 8-byte-tag GCM) are skipped.
package sdp
