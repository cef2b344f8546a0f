"""The VLO console: GOV.UK Design System pages over the service layer (service/)."""
