// Package sdk turns a function into a herofleet hook plugin.
//
// A plugin is a main package that calls Serve with its name, version, the events it handles and a Run function:
//
//	func main() {
//		sdk.Serve(sdk.Plugin{
//			Name: "hello", Version: "1.0.0", Events: []string{"post-start"},
//			Run: func(ctx context.Context, call plugins.Call) (*plugins.Result, error) {
//				return &plugins.Result{Messages: []string{"hello from " + call.App}}, nil
//			},
//		})
//	}
//
// Built as herofleet-plugin-hello and put in the agent's plugins directory, it runs for every app whose hooks name
// it. DecodeWith reads the hook's `with` into a struct, InDataDir keeps paths inside the app's data directory,
// ReadSecret reads the agent's local secrets, and Logger logs into the agent's log. See docs/plugins.md.
package sdk
