"""Open311 GeoReport v2 (/open311/v2/): outside systems list the services, file service requests into the
closed loop and follow them. zhili.open311.service says how a request is placed and who may read what."""
