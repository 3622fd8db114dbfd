package sim

import (
	"compress/gzip"
	"net/http"
	"strings"
)

// acceptsGzip reports whether the request's Accept-Encoding lists gzip (with a q above 0).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// gzipWriter compresses an API answer with gzip, as a tenant does when asked (Cloud ALM's
// APIs sit behind SAP's gateway, which compresses on Accept-Encoding). The counting writer
// under it counts the compressed bytes: what a tenant's fair-use quota counts.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool
}

func newGzipWriter(w http.ResponseWriter) *gzipWriter { return &gzipWriter{ResponseWriter: w} }

func (g *gzipWriter) WriteHeader(code int) {
	if !g.started {
		g.started = true
		h := g.Header()
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		g.gz = gzip.NewWriter(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	return g.gz.Write(b)
}

// close ends the gzip stream of an answer that was started.
func (g *gzipWriter) close() {
	if g.gz != nil {
		g.gz.Close()
	}
}

// Unwrap lets http.ResponseController reach the connection (Hijack for ResetConnections).
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
