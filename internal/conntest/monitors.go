package conntest

// authority is the line to put into the service instance's "authorities" parameter for a scope.
func authority(scope string) string { return "$XSMASTERAPPNAME." + scope }
