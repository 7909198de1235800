"""The measurements themselves, free of the database: ICMP ping and interface traffic."""
