else {
  keep;
}
