package analytics

import (
	"fmt"
	"regexp"
	"strings"
)

// KeyPattern turns a table's parameters (TableParameters, or the table as Glue holds it) into a
// regexp over the archive's object keys, with one group per partition key: enum values
// literally, the date in its projection format, the hour with its digits. A key it matches is in
// a partition Athena projects, so its records are queryable.
func KeyPattern(params map[string]string) (*regexp.Regexp, error) {
	tmpl := params["storage.location.template"]
	loc, ok := strings.CutPrefix(tmpl, "s3://")
	if !ok {
		return nil, fmt.Errorf("storage.location.template %q is not an s3:// URL", tmpl)
	}
	_, loc, _ = strings.Cut(loc, "/") // the key, without the bucket
	expr := "^" + regexp.QuoteMeta(loc)
	for _, pk := range PartitionKeys {
		var group string
		switch typ := params["projection."+pk.Name+".type"]; typ {
		case "enum":
			vals := SplitValues(params["projection."+pk.Name+".values"])
			for i := range vals {
				vals[i] = regexp.QuoteMeta(vals[i])
			}
			group = strings.Join(vals, "|")
			if group == "" {
				group = `[^\s\S]` // no value: no key is in a projected partition
			}
		case "date":
			if f := params["projection."+pk.Name+".format"]; f != "yyyy-MM-dd" {
				return nil, fmt.Errorf("projection.%s.format %q: only yyyy-MM-dd is known", pk.Name, f)
			}
			group = `\d{4}-\d{2}-\d{2}`
		case "integer":
			group = `\d{` + params["projection."+pk.Name+".digits"] + `}`
		default:
			return nil, fmt.Errorf("partition key %s has projection type %q; want enum, date or integer", pk.Name, typ)
		}
		placeholder := regexp.QuoteMeta("${" + pk.Name + "}")
		if !strings.Contains(expr, placeholder) {
			return nil, fmt.Errorf("storage.location.template %q has no ${%s}", tmpl, pk.Name)
		}
		expr = strings.Replace(expr, placeholder, "(?P<"+pk.Name+">"+group+")", 1)
	}
	// The template ends in "/": the object name follows, with no further path level.
	return regexp.Compile(expr + `[^/]+\.ndjson\.gz$`)
}
