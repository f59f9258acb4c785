"""The probe agent (`sdwan probe-agent`): path quality measured beside each router."""
