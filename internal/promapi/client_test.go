package promapi

import (
	"strings"
	"testing"
)

// Prometheus' answers, as its HTTP API documents them: a vector, a scalar, an error, and a range answer that an
// instant query must not be mistaken for.
func TestDecode(t *testing.T) {
	vec, err := decode([]byte(`{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"__name__":"up","instance":"tester-07"},"value":[1733222400.1,"1"]},
		{"metric":{"instance":"tester-08"},"value":[1733222400.1,"0"]}]}}`), "200 OK", "up")
	if err != nil || len(vec) != 2 || vec[0].Labels["instance"] != "tester-07" || vec[0].Value != 1 || vec[1].Value != 0 {
		t.Fatalf("vector: %+v, %v", vec, err)
	}
	empty, err := decode([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`), "200 OK", "up")
	if err != nil || len(empty) != 0 {
		t.Fatalf("an empty vector is an answer (the caller decides what no series means): %+v, %v", empty, err)
	}
	sc, err := decode([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1733222400,"3"]}}`), "200 OK", "3")
	if err != nil || len(sc) != 1 || sc[0].Value != 3 {
		t.Fatalf("scalar: %+v, %v", sc, err)
	}
	for body, want := range map[string]string{
		`{"status":"error","errorType":"bad_data","error":"parse error at char 4"}`:                  "bad_data: parse error",
		`{"status":"success","data":{"resultType":"matrix","result":[]}}`:                            "a matrix answer",
		`<html>502 Bad Gateway</html>`:                                                               "not a Prometheus answer",
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}`: "not a string",
	} {
		if _, err := decode([]byte(body), "502 Bad Gateway", "q"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decode(%s): %v, want an error with %q", body, err, want)
		}
	}
}

func TestNewRefusesBadURLsWithoutPrintingCredentials(t *testing.T) {
	for _, u := range []string{"127.0.0.1:9090", "ftp://h:1", "http://"} {
		if _, err := New(u, 0); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	if _, err := New("gopher://admin:hunter2@h:9090", 0); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad URL with a password: %v", err)
	}
}
