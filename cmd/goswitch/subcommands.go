package main

func init() {
	subcommands["trace"] = runTrace
}
