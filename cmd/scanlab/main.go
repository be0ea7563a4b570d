// Command scanlab runs the scanlab study: it compares server-side scanning,
// pure end-to-end encryption and on-device scanning on detection coverage,
// cost and what each party can see, and it runs the pieces (relay, hasher)
// on their own.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// command is one subcommand: its usage text and the function that runs it.
// Each subcommand parses its own flags with its own pflag.FlagSet.
type command struct {
	name    string
	summary string // one line for the command list
	usage   string // full help text
	run     func(stdout, stderr io.Writer, args []string) error
}

// commands is filled by register from each subcommand's file.
var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("scanlab: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError marks a mistake in how scanlab was called (exit status 2).
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

// hintError is a runtime failure with advice for the user (exit status 1).
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// errHelp is returned when help was asked for and printed.
var errHelp = errors.New("help requested")

func main() {
	err := run(os.Stdout, os.Stderr, os.Args[1:])
	os.Exit(exitStatus(os.Stderr, err))
}

// exitStatus prints err in scanlab's error format and returns the exit status.
func exitStatus(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "scanlab: error: %v\n", err)
	var ue *usageError
	var he *hintError
	switch {
	case errors.As(err, &ue):
		if ue.hint != "" {
			fmt.Fprintf(stderr, "scanlab: hint: %s\n", ue.hint)
		}
		return 2
	case errors.As(err, &he):
		if he.hint != "" {
			fmt.Fprintf(stderr, "scanlab: hint: %s\n", he.hint)
		}
	}
	return 1
}

const mainUsage = `scanlab compares three ways of running private messaging — server-side
scanning, end-to-end encryption, and on-device scanning — on what they catch,
what they cost and who can read what.

Usage:
    scanlab <command> [arguments]

Commands:
%s
Run "scanlab help <command>" for a command's options.

Example:
    $ scanlab run visibility --seed 1 --out results
    $ column -s, -t results/visibility/visibility.csv | grep 'serverscan.*text '
`

func mainHelp() string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(wrap(fmt.Sprintf("    %-10s %s", n, commands[n].summary), 15))
	}
	return fmt.Sprintf(mainUsage, b.String())
}

func run(stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainHelp())
		return &usageError{msg: "no command given", hint: `try "scanlab run" for the default study`}
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				return unknownCommand(args[1])
			}
			fmt.Fprint(stdout, c.usage)
			return nil
		}
		fmt.Fprint(stdout, mainHelp())
		return nil
	case "--version", "-v":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		return unknownCommand(args[0])
	}
	return c.run(stdout, stderr, args[1:])
}

func unknownCommand(name string) error {
	return &usageError{msg: fmt.Sprintf("unknown command %q", name), hint: `run "scanlab help" for the list of commands`}
}

// newFlags returns a FlagSet for command c whose errors come back to the
// caller and whose -h prints c's hand-written usage.
func newFlags(c string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args with fs, turning flag mistakes into usage errors and
// -h/--help into printed help.
func parse(fs *pflag.FlagSet, c command, stdout io.Writer, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, c.usage)
			return errHelp
		}
		return &usageError{msg: err.Error(), hint: fmt.Sprintf(`run "scanlab help %s" for its options`, c.name)}
	}
	return nil
}

// helpWidth is the width help text is wrapped to.
const helpWidth = 80

// wrap breaks line at spaces so that no line is wider than helpWidth,
// indenting continuation lines by indent spaces, and ends it with a newline.
func wrap(line string, indent int) string {
	var b strings.Builder
	for len(line) > helpWidth {
		cut := strings.LastIndexByte(line[:helpWidth+1], ' ')
		if cut <= indent {
			break
		}
		b.WriteString(line[:cut])
		b.WriteString("\n")
		line = strings.Repeat(" ", indent) + strings.TrimLeft(line[cut:], " ")
	}
	b.WriteString(line)
	b.WriteString("\n")
	return b.String()
}
