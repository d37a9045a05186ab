"""Key persons (重点人员 / 特殊人群): registration from a resident, kind-specific fields, risk level and
its history, helpers, the visit plan, check-ins, leave requests and the warnings they raise."""
