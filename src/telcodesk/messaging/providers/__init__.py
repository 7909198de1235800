"""Provider adapters: each speaks one provider's wire format."""
