package analytics

import (
	"os"
	"strings"
	"testing"
)

// docs/analytics.md shows every query as the stack deploys it, with its result columns.
func TestDocsShowEveryQuery(t *testing.T) {
	raw, err := os.ReadFile("../docs/analytics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, q := range Questions {
		for what, text := range map[string]string{"Athena SQL": q.Athena, "Logs Insights query": q.Insights,
			"result columns": "Result columns: `" + strings.Join(q.Columns, "`, `") + "`."} {
			if !strings.Contains(doc, text) {
				t.Errorf("docs/analytics.md lacks the %s of %q:\n%s", what, q.ID, text)
			}
		}
	}
	for _, p := range Panels {
		if !strings.Contains(doc, p.Title) {
			t.Errorf("docs/analytics.md lacks the dashboard widget %q", p.Title)
		}
	}
}

// Every Athena query's result columns are named as the docs say: each column appears as an alias
// or a selected column of the query.
func TestQuestionColumnsAppearInTheirQueries(t *testing.T) {
	for _, q := range Questions {
		for _, c := range q.Columns {
			if !strings.Contains(q.Athena, "AS "+c) && !strings.Contains(q.Athena, "SELECT "+c) && !strings.Contains(q.Athena, ", "+c) && !strings.Contains(q.Athena, "p."+c) {
				t.Errorf("question %s: result column %q does not appear in its SQL", q.ID, c)
			}
		}
	}
}
