package sim

import (
	"net/http"
	"strings"
)

// LandscapeObject is one object of the landscape API.
type LandscapeObject struct {
	LmsID       string `json:"lmsId"`
	Name        string `json:"name"`
	ObjectType  string `json:"objectType"`
	ServiceType string `json:"serviceType,omitempty"`
	Description string `json:"description,omitempty"`
	Role        string `json:"role,omitempty"`
	ExternalID  string `json:"externalId,omitempty"`
}

// LandscapeObjects returns every landscape object in the API's order.
func (s *Server) LandscapeObjects() []LandscapeObject {
	var out []LandscapeObject
	for _, svc := range s.services {
		out = append(out, LandscapeObject{
			LmsID: svc.ID, Name: svc.Name, ObjectType: "CloudService", ServiceType: svc.Type,
			Description: svc.Description, Role: "PROD", ExternalID: strings.ToLower(svc.Name),
		})
	}
	for _, svc := range s.services {
		out = append(out, LandscapeObject{
			LmsID: uuidFrom("system", svc.ID), Name: svc.Name + " (system)", ObjectType: "TechnicalSystem",
			ServiceType: svc.Type, Description: "technical system of " + svc.Name, Role: "PROD",
		})
	}
	for i, name := range []string{"Order to Cash", "Hire to Retire"} {
		out = append(out, LandscapeObject{LmsID: uuidFrom("business-service", name), Name: name, ObjectType: "BusinessService", ExternalID: "BS" + string(rune('1'+i))})
	}
	return out
}

func (s *Server) handleLandscape(w http.ResponseWriter, r *http.Request) {
	ot := r.URL.Query().Get("objectType")
	var objs []LandscapeObject
	for _, o := range s.LandscapeObjects() {
		if ot == "" || strings.EqualFold(ot, o.ObjectType) {
			objs = append(objs, o)
		}
	}
	writePage(s, w, r, objs)
}
