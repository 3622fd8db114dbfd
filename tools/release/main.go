// Command release is make release's helper (scripts/release.sh):
//
//	release package CDK_OUT STACK OUT_DIR   the packaged template and its assets (internal/release)
//	release zip DST.zip DIR                 a reproducible zip of DIR (a Lambda bootstrap)
//	release envjson TEMPLATE                the env.json of sam local invoke, on stdout
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/calm-collector/calm-collector/internal/release"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 4 && args[0] == "package":
		assets, err := release.Package(args[1], args[2], args[3])
		if err != nil {
			return err
		}
		fmt.Printf("packaged %s with %d assets into %s\n", args[2], len(assets), args[3])
		return nil
	case len(args) == 3 && args[0] == "zip":
		return release.ZipDir(args[1], args[2])
	case len(args) == 2 && args[0] == "envjson":
		b, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		var tpl map[string]any
		if err := json.Unmarshal(b, &tpl); err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		out, err := release.EnvJSON(tpl, release.LocalOnly)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(out)
		return err
	}
	return fmt.Errorf("usage: release package CDK_OUT STACK OUT_DIR | zip DST.zip DIR | envjson TEMPLATE (got %q)", args)
}
