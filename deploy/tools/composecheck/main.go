// composecheck loads compose files the way `docker compose config` does, with compose-go (the
// library Docker Compose itself uses): .env and environment interpolation, the Compose
// Specification's JSON schema, normalisation. It prints the resolved project as JSON, or the error
// and exits 1. deploy/check.sh uses it where the docker compose plugin is not installed.
//
//	go run . ../../docker-compose.yml
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck FILE [FILE...]")
		os.Exit(2)
	}
	opts, err := cli.NewProjectOptions(os.Args[1:],
		cli.WithOsEnv, cli.WithEnvFiles(), cli.WithDotEnv, cli.WithName("normreg"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
