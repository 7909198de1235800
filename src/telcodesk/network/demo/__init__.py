"""The demo network: snmpsim data for two OLTs and the launcher that serves them."""
