require "vacation";
vacation :days 5 :subject "Out of office" :from "bob@example.net" :addresses ["bob@example.net", "robert@example.net"]
  "I am away until Monday.";
