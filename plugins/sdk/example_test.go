package sdk_test

import (
	"context"
	"fmt"

	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/plugins/sdk"
)

// A hook plugin that writes a greeting file into the app's data directory and tells the app where it is. Its
// main function is one line, sdk.Serve(greet); build it as herofleet-plugin-greet and name it in an app's hooks:
//
//	hooks:
//	  - {plugin: greet, on: pre-start, with: {file: greeting.txt, to: tester}}
//
// Here its Run is called directly, as a plugin's unit test would.
func Example() {
	greet := sdk.Plugin{
		Name:    "greet",
		Version: "1.0.0",
		Events:  []string{"pre-start"},
		Run: func(ctx context.Context, call plugins.Call) (*plugins.Result, error) {
			var with struct {
				File string `json:"file"`
				To   string `json:"to"`
			}
			if err := sdk.DecodeWith(call.With, &with); err != nil {
				return nil, err
			}
			path, err := sdk.InDataDir(call, with.File) // refuses ../ and symlinks out of ${data}
			if err != nil {
				return nil, err
			}
			// … write the file here …
			return &plugins.Result{
				Messages: []string{fmt.Sprintf("would greet %s in %s", with.To, path)},
				Env:      map[string]string{"GREETING_FILE": path},
			}, nil
		},
	}
	// func main() { sdk.Serve(greet) }

	res, err := greet.Run(context.Background(), plugins.Call{
		Event: "pre-start", App: "books", DataDir: "/var/lib/herofleet/data/books",
		With: map[string]any{"file": "greeting.txt", "to": "tester"},
	})
	fmt.Println(res.Messages[0], res.Env, err)

	_, err = greet.Run(context.Background(), plugins.Call{
		DataDir: "/var/lib/herofleet/data/books", With: map[string]any{"file": "../memory/db"},
	})
	fmt.Println(err)
	// Output:
	// would greet tester in /var/lib/herofleet/data/books/greeting.txt map[GREETING_FILE:/var/lib/herofleet/data/books/greeting.txt] <nil>
	// /var/lib/herofleet/data/memory/db is outside the app's data directory /var/lib/herofleet/data/books
}
