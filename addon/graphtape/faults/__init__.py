"""Graph-faithful faults: the faults file (config.py), which requests get one (match.py, schedule.py), Graph's
bodies for them (bodies.py), the pipeline's stage that injects them in every mode (stage.py), and what the session
keeps of each (record.py). Outlook's limits model is limits.py."""
