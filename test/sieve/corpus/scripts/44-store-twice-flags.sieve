# Storing twice into one mailbox stores once, with the flags of the last store.
require ["fileinto", "imap4flags", "copy"];
addflag "\\Seen";
fileinto :copy "B";
setflag ["a", "b"];
fileinto :copy "B";
keep :flags "first";
fileinto "INBOX";
