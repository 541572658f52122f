package fleet

import "testing"

func TestCheckTreePath(t *testing.T) {
	for _, tc := range []struct{ path, err string }{
		{"target/release/hero_books_server", ""},
		{"bin", ""},
		{"a..b/c", ""}, // .. inside a name is a name
		{"", "is required"},
		{"/usr/bin/books", "must be relative to the built tree"},
		{`\bin\books`, "must be relative to the built tree"},
		{`bin\books`, "use / as the separator"},
		{"../books", "must stay inside the built tree"},
		{"bin/../../books", "must stay inside the built tree"},
		{"bin/..", "must stay inside the built tree"},
		{"${data}/books", "variables are not expanded"},
		{"./bin/books", `write it clean, as "bin/books"`},
		{"bin//books", `write it clean, as "bin/books"`},
		{"bin/", `write it clean, as "bin"`},
	} {
		wantErr(t, "checkTreePath("+tc.path+")", checkTreePath(tc.path), tc.err)
	}
}

func TestIsWebURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://tester-07:9201/", true},
		{"https://books.example/", true},
		{"http://[4a5:1c2::7]:9201/admin", true},
		{"ftp://books.example/", false},
		{"http:///path", false},
		{"/relative", false},
		{"books.example", false},
		{"", false},
	} {
		if got := isWebURL(tc.url); got != tc.ok {
			t.Errorf("isWebURL(%q) = %v, want %v", tc.url, got, tc.ok)
		}
	}
}
