#!/bin/sh
# gen-sounds.sh regenerates goswitch's default prompts in sounds/ with FreeSWITCH's file names
# (8 kHz mono 16-bit WAV). Needs espeak-ng and sox (Debian: apt-get install -y espeak-ng sox).
# The output is committed; run this only to change the prompt set.
set -eu
cd "$(dirname "$0")/../sounds"
VOICE=${VOICE:-en-us}
SPEED=${SPEED:-170}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

say() { # say <file> <text>
	mkdir -p "$(dirname "$1")"
	espeak-ng -v "$VOICE" -s "$SPEED" -w "$TMP/raw.wav" "$2"
	# trim leading/trailing silence, 8 kHz mono 16-bit, a little gain headroom
	sox "$TMP/raw.wav" -r 8000 -c 1 -b 16 "$1" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse gain -n -3
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
say misc/error.wav "An error has occurred."
say misc/transfer1.wav "Please hold."

du -sh .
