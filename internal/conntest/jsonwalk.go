package conntest

import "encoding/json"

// walkJSON calls fn for every string value in a JSON document with the key it is stored under
// ("" for array elements and the top level). Invalid JSON calls nothing.
func walkJSON(raw []byte, fn func(key, val string)) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case string:
			fn(key, v)
		case map[string]any:
			for k, e := range v {
				walk(k, e)
			}
		case []any:
			for _, e := range v {
				walk(key, e)
			}
		}
	}
	walk("", v)
}
