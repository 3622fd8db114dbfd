package transcript

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
)

// Decoded returns every reading of a transcript file to search for what must not be in it: the
// bytes as they are, every JSON string value unescaped, and every base64 value decoded (and
// inflated when gzip'd). A file of JSON lines is read line by line.
func Decoded(raw []byte) []string {
	out := []string{string(raw)}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		out = append(out, decodedJSON(sc.Bytes())...)
	}
	return append(out, decodedJSON(raw)...)
}

func decodedJSON(b []byte) []string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
			if d, err := base64.StdEncoding.DecodeString(v); err == nil {
				out = append(out, string(d))
				if plain, zipped := inflate(d, http.Header{}); zipped {
					out = append(out, string(plain))
				}
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}
