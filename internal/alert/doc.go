// Package alert turns collected records into EventBridge events (docs/alerts.md): business-service
// status events opened, changed and closed, and alert rules (monitor, metric, attribute match,
// comparison, threshold) firing and clearing. It is a sink: a window's events are put on the bus,
// then the alert state is saved with the checkpoints (state-store marks), before the window's
// checkpoint moves. One event per change, never repeated while the state holds.
package alert
