"""The service-hall queue (营业厅排队叫号): halls, tickets, the business catalogue,
queue rules and statistics. Domain code: no Flask, no Dash."""
