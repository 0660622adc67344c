package main

func init() {
	subcommands["trace"] = runTrace
	subcommands["check"] = runCheck
}
