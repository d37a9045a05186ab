"""Work orders: the closed loop from registration to callback (the state machine is `workflow.py`)."""
