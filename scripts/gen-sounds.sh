#!/bin/sh
# gen-sounds.sh generates goswitch's prompts with FreeSWITCH's file names and folders, with
# espeak-ng and sox (Debian: apt-get install -y espeak-ng sox): every prompt the vanilla
# dialplan, IVR menus, phrase macros (lang/en) and conference/voicemail use, and a
# music-on-hold set synthesised by sox (chords, not recordings) under music/<rate>/.
#
#   scripts/gen-sounds.sh            the embedded set in sounds/: prompts at 8 kHz as
#                                    <dir>/<name>.wav (the player resamples them for 16/32/48 kHz
#                                    calls), music at 8 and 16 kHz as music/<rate>/*.wav
#   scripts/gen-sounds.sh -k         the same, keeping files that exist (only what is missing)
#   scripts/gen-sounds.sh -w         also wideband prompts in the embedded set, <dir>/16000/<name>.wav
#                                    (about +10 MB; playback prefers them on 16 kHz calls)
#   scripts/gen-sounds.sh -o DIR [-r "8000 16000 32000 48000"]
#                                    a FreeSWITCH sound-pack layout on disk: DIR/<dir>/<rate>/<name>.wav
#                                    (point sound_prefix at DIR) and DIR/../../../music/<rate>/
#                                    as sounds_dir/music/<rate> when DIR is sounds_dir/en/us/callie
#
# The embedded set is committed; run this only to change it.
set -eu
OUT=""
RATES=""
KEEP=0
WIDE=0
while getopts "o:r:kw" opt; do
	case $opt in
	o) OUT=$OPTARG ;;
	r) RATES=$OPTARG ;;
	k) KEEP=1 ;;
	w) WIDE=1 ;;
	*) echo "usage: $0 [-k] [-w] [-o DIR [-r RATES]]" >&2; exit 2 ;;
	esac
done
if [ -z "$OUT" ]; then
	cd "$(dirname "$0")/../sounds"
	OUT=.
	FLAT=1
	MUSIC=music
	MUSIC_RATES="8000 16000"
else
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	FLAT=0
	RATES=${RATES:-"8000 16000 32000 48000"}
	MUSIC="$OUT/../../../music"
	MUSIC_RATES=$RATES
fi
VOICE=${VOICE:-en-us}
SPEED=${SPEED:-170}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# out <file> <rate>: where <dir>/<name>.wav goes at rate
out() {
	if [ "$FLAT" = 1 ] && [ "$2" = 8000 ]; then
		echo "$OUT/$1"
	else
		echo "$OUT/$(dirname "$1")/$2/$(basename "$1")"
	fi
}

say() { # say <file> <text>
	if [ "$FLAT" = 0 ]; then rates=$RATES; elif [ "$WIDE" = 1 ]; then rates="8000 16000"; else rates=8000; fi
	if [ "$KEEP" = 1 ]; then
		all=1
		for r in $rates; do [ -f "$(out "$1" "$r")" ] || all=0; done
		[ "$all" = 1 ] && return 0
	fi
	espeak-ng -v "$VOICE" -s "$SPEED" -w "$TMP/raw.wav" "$2"
	for r in $rates; do
		f=$(out "$1" "$r")
		mkdir -p "$(dirname "$f")"
		# trim leading/trailing silence, mono 16-bit, a little gain headroom
		sox "$TMP/raw.wav" -r "$r" -c 1 -b 16 "$f" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse gain -n -3
	done
}

# digits and numbers (mod_say_en)
for n in $(seq 0 20); do say "digits/$n.wav" "$n"; done
for n in 30 40 50 60 70 80 90; do say "digits/$n.wav" "$n"; done
say digits/hundred.wav "hundred"
say digits/thousand.wav "thousand"
say digits/million.wav "million"
say digits/billion.wav "billion"
say digits/star.wav "star"
say digits/pound.wav "pound"
say digits/dot.wav "dot"
say digits/minus.wav "minus"
say digits/oh.wav "oh"
ord="first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
i=1; for w in $ord; do say "digits/h-$i.wav" "$w"; i=$((i+1)); done
say digits/h-30.wav "thirtieth"
# name_spelled: ascii/<code>.wav (letters, star, pound)
for c in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
	code=$(printf '%d' "'$c")
	say "ascii/$code.wav" "$c"
done
say ascii/42.wav "star"
say ascii/35.wav "pound"
say ascii/46.wav "dot"
say ascii/64.wav "at"
# name_phonetic: phonetic-ascii/<code>.wav
set -- alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey x-ray yankee zulu
for c in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
	code=$(printf '%d' "'$c")
	say "phonetic-ascii/$code.wav" "$1"
	shift
done
say phonetic-ascii/42.wav "star"
say phonetic-ascii/35.wav "pound"
# time words
i=0; for d in Sunday Monday Tuesday Wednesday Thursday Friday Saturday; do say "time/day-$i.wav" "$d"; i=$((i+1)); done
i=0; for m in January February March April May June July August September October November December; do say "time/mon-$i.wav" "$m"; i=$((i+1)); done
say time/a-m.wav "A M"
say time/p-m.wav "P M"
say time/oclock.wav "o'clock"
say time/today.wav "today"
say time/yesterday.wav "yesterday"
say time/at.wav "at"
say time/hour.wav "hour"
say time/hours.wav "hours"
say time/minute.wav "minute"
say time/minutes.wav "minutes"
say time/second.wav "second"
say time/seconds.wav "seconds"

# ivr
while IFS='|' read -r f t; do [ -n "$f" ] && say "ivr/$f.wav" "$t"; done <<'LIST'
ivr-welcome|Welcome
ivr-welcome_to_freeswitch|Welcome to go switch
ivr-this_ivr_will_let_you_test_features|This I V R will let you test features.
ivr-you_may_exit_by_hanging_up|You may exit by hanging up.
ivr-enter_ext_pound|Enter an extension, followed by pound.
ivr-to_call_the_freeswitch_conference|To call the conference,
ivr-please|please
ivr-to_do_a_freeswitch_echo_test|To do an echo test,
ivr-to_listen_to_moh|To listen to music on hold,
ivr-register_for_cluecon|To register for the conference, press
ivr-to_hear_screaming_monkeys|To hear screaming monkeys,
ivr-to_hear_sample_submenu|To hear a sample sub menu,
ivr-to_repeat_these_options|To repeat these options,
ivr-sample_submenu|This is a sample sub menu.
ivr-to_return_to_previous_menu|To return to the previous menu,
ivr-that_was_an_invalid_entry|That was an invalid entry.
ivr-please_enter_pin_followed_by_pound|Please enter your pin, followed by pound.
ivr-please_enter_extension_followed_by_pound|Please enter the extension, followed by pound.
ivr-thank_you|Thank you.
ivr-hold_connect_call|Please hold while I connect your call.
ivr-call_being_transferred|Your call is being transferred.
ivr-not_available|is not available.
ivr-anonymous_caller|Anonymous caller
ivr-call_from|Call from
ivr-extension_number|Extension number
ivr-in_line|in line
ivr-there_are|There are
ivr-there_is|There is
ivr-you_are_number|You are number
ivr-to_accept_press_one|To accept, press one.
ivr-to_reject|To reject,
ivr-hang_up|hang up
ivr-call_forwarding_has_been_set|Call forwarding has been set.
ivr-call_forwarding_has_been_cancelled|Call forwarding has been cancelled.
ivr-enter_destination_telephone_number|Enter the destination telephone number.
ivr-enter_source_telephone_number|Enter the source telephone number.
ivr-no_user_response|No response.
ivr-invalid_number_format|Invalid number format.
LIST

# voicemail
while IFS='|' read -r f t; do [ -n "$f" ] && say "voicemail/$f.wav" "$t"; done <<'LIST'
vm-abort|Aborted.
vm-advanced|For advanced options,
vm-change_password|To change your password,
vm-choose_greeting|To choose a greeting,
vm-choose_greeting_choose|Choose a greeting between one and nine.
vm-choose_greeting_fail|Invalid greeting.
vm-continue|To continue,
vm-delete_recording|To delete this message,
vm-deleted|Message deleted.
vm-emailed|Message emailed.
vm-enter_id|Please enter your I D, followed by
vm-enter_pass|Please enter your password, followed by
vm-fail_auth|Login incorrect.
vm-followed_by|followed by
vm-forward_add_intro|To add an introduction,
vm-forward_enter_ext|Enter the extension to forward to,
vm-forward_to_email|To forward this message to your email,
vm-goodbye|Goodbye.
vm-greeting|Greeting
vm-hello|Hello.
vm-listen_new|To listen to new messages,
vm-listen_saved|To listen to saved messages,
vm-listen_to_recording|To listen to the recording,
vm-mailbox_full|The mailbox is full.
vm-main_menu|For the main menu,
vm-mark-urgent|To mark this message urgent,
vm-marked-urgent|Marked urgent.
vm-message|message
vm-message_from|Message from
vm-message_number|message number
vm-messages|messages
vm-new|new
vm-saved|saved
vm-urgent|urgent
vm-urgent-new|urgent new
vm-urgent-saved|urgent saved
vm-not_available|is not available.
vm-person|The person at extension
vm-password_has_been_changed|Your password has been changed.
vm-password_not_valid|That password is not valid.
vm-press|press
vm-received|received
vm-record_greeting|Record your greeting at the tone. Press any key or stop talking to end the recording.
vm-record_message|Record your message at the tone. Press any key or stop talking to end the recording.
vm-record_name1|At the tone, please record your name. Press any key or stop talking to end the recording.
vm-record_name2|To record your name,
vm-rerecord|To re-record,
vm-return_call|To return the call now,
vm-save_recording|To save the recording,
vm-selected|selected
vm-send_message_now|To send this message now,
vm-that_was_an_invalid_ext|That was an invalid extension.
vm-to_exit|To exit,
vm-to_forward|To forward this message,
vm-to_record_greeting|To record a greeting,
vm-too-small|Your recording is too short.
vm-you_have|You have
vm-no_more_messages|No more messages.
vm-from|from
vm-played_back|To repeat this message,
vm-next_message|For the next message,
vm-prev_message|For the previous message,
vm-undelete|To undelete,
vm-save|To save,
LIST

# conference
while IFS='|' read -r f t; do [ -n "$f" ] && say "conference/$f.wav" "$t"; done <<'LIST'
conf-alone|You are currently the only person in this conference.
conf-bad-pin|That pin is invalid.
conf-has_joined|has joined the conference.
conf-has_left|has left the conference.
conf-is-locked|The conference is now locked.
conf-is-unlocked|The conference is now unlocked.
conf-kicked|You have been kicked from the conference.
conf-listener_in_conference|listener in the conference.
conf-locked|The conference is locked.
conf-members_in_conference|members in the conference.
conf-muted|You are now muted.
conf-unmuted|You are now unmuted.
conf-pin|Please enter the conference pin number, followed by pound.
conf-goodbye|Goodbye.
conf-enter_conf_pin|Please enter the conference pin.
LIST

# misc
while IFS='|' read -r f t; do [ -n "$f" ] && say "misc/$f.wav" "$t"; done <<'LIST'
error|An error has occurred.
transfer1|Please hold.
call_secured|This call is secured.
misc-information_about_freeswitch|For information about go switch and free switch,
misc-learn_more_about_freeswitch_solutions|To learn more about free switch solutions,
misc-to_hear_about_cluecon|To hear about clue con,
LIST

# currency (mod_say_en) and the phrases of lang/en/vm/voicemail_ivr.xml
say currency/and.wav "and"
say voicemail/vm-for_next_msg.wav "For the next message,"

# directory (mod_directory's phrases, lang/en/dir/sounds.xml)
while IFS='|' read -r f t; do [ -n "$f" ] && say "directory/$f.wav" "$t"; done <<'LIST'
dir-at_extension|at extension
dir-enter_person|Please enter the first few letters of the person's
dir-first_name|first name.
dir-for_next|For the next entry,
dir-for_prev|For the previous entry,
dir-last_name|last name.
dir-letters_of_person_name|letters of the person's name.
dir-no_matching_results|There are no matching results.
dir-no_more_results|There are no more results.
dir-result_match|matches.
dir-result_number|Result number
dir-specify_mininum|Please specify at least three letters.
dir-start_new_search|To start a new search,
dir-to_search_by|To search by
dir-to_select_entry|To select this entry,
dir-too_many_result|There are too many results.
LIST

# ivr: the vanilla demo IVR's extras and its "funnies" (lang/en/demo/funnies.xml)
while IFS='|' read -r f t; do [ -n "$f" ] && say "ivr/$f.wav" "$t"; done <<'LIST'
ivr-for_other_options|For other options,
ivr-repeat_this_information|To repeat this information,
ivr-all_your_call_are_belong_to_us|All your call are belong to us.
ivr-asterisk_like_syphilis|Press star. Like it was the star key.
ivr-beacuase|Because.
ivr-cold_foolish|That was cold and foolish.
ivr-concentrate|Concentrate.
ivr-congratulations_you_pressed_star|Congratulations, you pressed star.
ivr-did_you_mean_to_press_key|Did you mean to press that key?
ivr-douche_telecom|Welcome to the telecom company.
ivr-dude_you_suck|Dude, try again.
ivr-engineers_busy_assisting_other_sales|Our engineers are busy assisting other customers.
ivr-founder_of_freesource|The founder of free source.
ivr-freeguipy|Free G U I.
ivr-it_was_that_bug|It was that bug.
ivr-love_those_touch_tones|I love those touch tones.
ivr-message_self_destruct|This message will self destruct.
ivr-no_no_no|No, no, no.
ivr-oh_whatever|Oh, whatever.
ivr-on_hold_indefinitely|You will be on hold indefinitely.
ivr-one_more_mistake|One more mistake.
ivr-seriously_mean_to_press_key|Did you seriously mean to press that key?
ivr-terribly_wrong_awkward|Something went terribly wrong. Awkward.
ivr-trollover_minutes|Your rollover minutes.
ivr-wakey_wakey_sunshine|Wakey wakey, sunshine.
ivr-were_asterisk_free|We are asterisk free.
ivr-yes_we_have_no_bananas|Yes, we have no bananas.
ivr-youre_doing_it_wrong|You're doing it wrong.
ivr-yuno_silent_drill|Why you no press a key?
LIST

# music on hold (mod_local_stream's default stream, local_stream://moh): soft plucked chords
# synthesised by sox, a few seconds each, looped by the stream
chord() { # chord <seconds> <note>... : one plucked chord
	d=$1; shift
	set -- $(for n in "$@"; do printf 'pl %s ' "$n"; done)
	sox -n -r 48000 -c 1 -b 16 "$TMP/chord$CH.wav" synth "$d" "$@" remix - fade 0.01 "$d" 0.4
	CH=$((CH+1))
}
music() { # music <name> <chord>... (chords as note,note,note)
	name=$1; shift
	CH=0
	for c in "$@"; do chord 2 $(echo "$c" | tr ',' ' '); done
	i=0; parts=""; while [ $i -lt $CH ]; do parts="$parts $TMP/chord$i.wav"; i=$((i+1)); done
	# shellcheck disable=SC2086
	sox $parts "$TMP/music.wav" gain -n -12
	for r in $MUSIC_RATES; do
		f="$MUSIC/$r/$name.wav"
		[ "$KEEP" = 1 ] && [ -f "$f" ] && continue
		mkdir -p "$(dirname "$f")"
		sox "$TMP/music.wav" -r "$r" -c 1 -b 16 "$f"
	done
}
music goswitch-moh-1 C3,E3,G3,C4 A2,E3,A3,C4 F2,C3,F3,A3 G2,D3,G3,B3
music goswitch-moh-2 F2,A3,C4,F4 G2,B3,D4,G4 E2,G3,B3,E4 A2,A3,C4,E4
music goswitch-moh-3 D3,F3,A3,D4 G2,B3,D4,F4 C3,E3,G3,C4 C3,E3,G3,C4

du -sh "$OUT"
