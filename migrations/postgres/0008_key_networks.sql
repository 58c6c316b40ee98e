-- Networks an API key's callbacks may reach besides the public internet and the operator's
-- webhooks.allow_networks: its own tenant's TMS network, as CIDRs. Answers from those are kept
-- in the delivery log; answers from networks only the operator exempted are not.
ALTER TABLE api_keys ADD COLUMN allow_networks jsonb NOT NULL DEFAULT '[]';
