package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/calm"
)

func TestBindName(t *testing.T) {
	const fields = `"authenticationServer":"https://t.authentication.eu10.hana.ondemand.com","clientId":"id","clientSecret":"s3cr3t-value","url":"https://victim.eu10.alm.cloud.sap"`
	s, renamed, err := BindName("squat", []byte(`{`+fields+`}`))
	if err != nil || !renamed || s.Name != "squat" {
		t.Errorf("no name: %q renamed %v %v; want named squat, said", s.Name, renamed, err)
	}
	if s, renamed, err := BindName("squat", []byte(`{"name":"squat",`+fields+`}`)); err != nil || renamed || s.Name != "squat" {
		t.Errorf("same name: %q renamed %v %v", s.Name, renamed, err)
	}
	_, _, err = BindName("squat", []byte(`{"name":"victim",`+fields+`}`))
	var ne *NameError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), `connector "squat": the settings name the tenant "victim"`) {
		t.Errorf("other name: %v", err)
	}
	if _, _, err := BindName("squat", []byte(`{"name":"squat"}`)); err == nil || errors.As(err, &ne) {
		t.Errorf("invalid settings: %v, want the settings' problems", err)
	}
	if strings.Contains(err.Error(), "s3cr3t-value") {
		t.Error("the refusal quotes the client secret")
	}
	stored, _ := s.MarshalConnector()
	if back, _, err := calm.ParseSettings(stored); err != nil || back.Name != "squat" {
		t.Errorf("stored form names %q (%v)", back.Name, err)
	}
}
