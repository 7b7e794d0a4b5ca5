package io.botengine;

public final class Main {
  public static void main(String[] args) {}
}
