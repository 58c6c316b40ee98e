-- Push carriers (Lufthansa): a shipment is found by the carrier's own subscription id when a
-- push arrives, and one id names one shipment.
CREATE UNIQUE INDEX shipments_carrier_ref
    ON shipments (carrier, carrier_ref) WHERE carrier_ref IS NOT NULL;
